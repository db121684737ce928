"""`python -m lsp_server` is the same CLI as `ghostls`."""

from lsp_server.cli.main import main

raise SystemExit(main())
