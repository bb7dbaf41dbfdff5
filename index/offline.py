"""Offline switches, set by the product itself before any library that might phone home.

Imported for its side effect by the modules that load chromadb, sentence-transformers or
ONNX Runtime,
so the guarantee does not depend on the caller's environment.
"""

import os

_SWITCHES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # ONNX Runtime 1.29+ sends telemetry on Linux too (a DNS lookup from a worker thread,
    # caught by tests/test_offline.py's strace); read when its environment is created.
    "ORT_DISABLE_TELEMETRY": "1",
}

for _key, _value in _SWITCHES.items():
    os.environ[_key] = _value
