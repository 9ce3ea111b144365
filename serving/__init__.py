"""A local OpenAI-compatible LLM server for the teacher: llama.cpp's own HTTP server (the xllamacpp
CPU wheel, started inside this process) over a GGUF model shipped in a PyPI package or given as a
file. ``python main.py serve`` runs it; the integration tests start it the same way."""
