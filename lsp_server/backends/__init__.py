"""Backends: `GenerationRequest` → async stream of text chunks."""

from lsp_server.backends.openmp import bound_openmp_spin

# Before any backend module can load llama.cpp's OpenMP runtime (`openmp.py`).
bound_openmp_spin()
