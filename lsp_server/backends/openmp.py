"""How long the embedded engine's decode threads busy-wait for each other.

llama-cpp-python's CPU library is built with OpenMP (GNU libgomp): its decode threads
meet at a barrier after every operation of the graph, hundreds of times a token, and
libgomp's default is to spin up to 300,000 times at each before sleeping. With the
cores to themselves that is free. With anything else wanting a core (the server's own
loop, the editor, another process; a 2-core machine has no spare one) a thread spins
for its partner while the partner waits for the core it spins on: measured on 2 shared
cores (load ~10), a 200-token prompt took 8.7 s instead of 4.7 s and a token 324-783 ms
instead of 61-67 ms, burning 4x the CPU. That was the stall of issue #19 (every request
timing out, nothing evaluated): a slowed decode made a request time out, its
generation kept the worker to the end of its chunk, the next request's prompt waited
behind it and timed out too, while both threads spun.

libgomp reads its settings once, when the library loads (at `import llama_cpp`), so
this must run before that: `lsp_server/backends/__init__.py` calls it.
"""

from __future__ import annotations

import os

# The spin libgomp itself falls back to when it knows there are more threads than
# CPUs ("throttled"): a wait the partner ends within ~25 µs is still caught spinning
# (a quiet machine keeps its speed), a longer one sleeps. 0 (OMP_WAIT_POLICY=PASSIVE)
# was as fast under load (61-69 ms a token against 103-113 ms at 1,000) but wakes the
# partner through the kernel at every barrier, which a quiet machine would pay.
SPIN_COUNT = 1000


def bound_openmp_spin(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Bound libgomp's busy-wait, unless the user chose a wait policy or spin count."""
    if "OMP_WAIT_POLICY" in environ or "GOMP_SPINCOUNT" in environ:
        return
    environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
