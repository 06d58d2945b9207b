# The front door. Every target installs what it needs on a fresh Debian 12 machine.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
SEEDS      ?= 1..20000
CMAKE_GEN  := -G Ninja

.PHONY: all deps build build-asan test test-asan soak format lint bench bench-compare demo clean fuzz \
	docker-test

all: build

deps:
	@tools/install-deps

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DRAFTLOG_SANITIZE=ON \
	  -DRAFTLOG_SIM_SEEDS=300 -DRAFTLOG_SIM_NODE_SEEDS=300

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# Every test, then every test again under ASan+UBSan. ctest's summary closes each run.
test: build build-asan
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

test-asan: build-asan
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# A local 3-node cluster on 127.0.0.1: events in, status and a follower's copy out.
demo: build
	BUILD=$(BUILD) tools/demo.sh

# docker/compose.yaml's cluster for real (tests/docker/cluster_test.py): builds the
# images (the base first when the engine lacks it: pulled, else docker/make-base-image),
# brings the cluster up under a project name of its own, pushes, kills the leader,
# restarts a subscriber, checks every event arrives once and in order, tears it
# all down. Needs a Docker engine and docker compose (or docker-compose).
docker-test:
	RAFTLOG_BUILD_JOBS=$(JOBS) tests/docker/cluster_test.py

# Longer simulator campaigns, the core's and the whole node's: make soak SEEDS=1..100000
soak: build
	$(BUILD)/tests/sim/raftlog-sim --seeds $(SEEDS) --nodes 3,5,7
	$(BUILD)/tests/sim/raftlog-sim --node --seeds $(SEEDS) --nodes 3,5,7

# libFuzzer on every network decoder (fuzz/), FUZZ_SECONDS each, in a clang
# build of its own. New inputs go to $(FUZZ_BUILD)/corpus; the checked-in
# seeds are read only. Crashes land in $(FUZZ_BUILD) as crash-*.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := peer_message client_request client_reply pub_stream

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DRAFTLOG_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t && \
	  ( cd $(FUZZ_BUILD) && ./fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	      corpus/$$t $(CURDIR)/fuzz/corpus/$$t ) || exit 1; \
	done

# The *_bench programs, then raftlog-bench on a local 3-node cluster (fsync
# on, data under $(BUILD)): 1 and 256 pushes in flight, then an open-loop run.
BENCH_SECONDS ?= 5
RAFTLOG_BENCH = $(BUILD)/bench/raftlog-bench --data-dir $(BUILD)/bench-data --duration $(BENCH_SECONDS)

bench: build
	@for b in $(BUILD)/bench/*_bench; do [ -x "$$b" ] && "$$b"; done; true
	$(RAFTLOG_BENCH) --producers 1 --window 1
	$(RAFTLOG_BENCH) --producers 1 --window 256
	$(RAFTLOG_BENCH) --rate 5000 --window 1024

# raftlog beside etcd and NATS JetStream, 3 nodes each, one table (about 10
# minutes; docs/benchmarks.md). Installs etcd-server, etcd-client and
# nats-server when missing.
bench-compare: build
	BUILD=$(BUILD) tools/bench/compare.sh

SOURCES = $(shell git ls-files '*.h' '*.cc')

format: deps
	clang-format -i $(SOURCES)

# clang-tidy runs on every core (run-clang-tidy); the checks are in .clang-tidy.
lint: build
	clang-format --dry-run --Werror $(SOURCES)
	run-clang-tidy -quiet -j $(JOBS) -p $(BUILD) $(addprefix $(CURDIR)/,$(filter %.cc,$(SOURCES)))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
