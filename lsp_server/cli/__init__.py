"""The `ghostls` command line: serve, complete one cursor in the terminal, doctor."""
