"""`python -m lsp_server` is the same CLI as `ghostls`."""

from lsp_server.cli import main

raise SystemExit(main())
