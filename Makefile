# Front door: every target installs missing dependencies first (scripts/deps.sh),
# then drives CMake. Build trees: build/ (default), build-asan/, build-clang/.
BUILD      ?= build
CMAKE_ARGS ?=
JOBS       ?= $(shell nproc)

.PHONY: all deps configure test demo bench asan clang valgrind fuzz soak clean

all: configure
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/deps.sh

configure: deps
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

test: all
	@cd $(BUILD) && ctest -LE valgrind --output-on-failure -j $(JOBS); rc=$$?; \
	  if [ -f conformance-core.txt ]; then echo "== conformance (core.txt)"; cat conformance-core.txt; fi; \
	  exit $$rc

demo: all
	@./$(BUILD)/synack demo

bench: all
	@bash bench/run.sh $(BUILD)

asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan CMAKE_ARGS="-DSYNACK_SANITIZE=ON -DCMAKE_C_COMPILER=clang"

clang:
	@$(MAKE) --no-print-directory all BUILD=build-clang CMAKE_ARGS="-DCMAKE_C_COMPILER=clang"

valgrind: all
	@cd $(BUILD) && ctest -L valgrind --output-on-failure -j $(JOBS)

# libFuzzer targets (fuzz/): each runs FUZZ_TIME seconds on its seed corpus.
FUZZ_TIME ?= 30
fuzz: deps
	@[ -f build-fuzz/CMakeCache.txt ] || cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYNACK_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_wire fuzz_stack fuzz_trace mkcorpus
	@bash fuzz/run.sh build-fuzz $(FUZZ_TIME)

# The simulator's soak: SOAK_SEEDS (10000) seeds under heavy faults (docs/simulation.md).
soak: all
	@bash scripts/soak.sh $(BUILD)

clean:
	rm -rf build build-asan build-clang build-fuzz
