"""The protocol edge: the pygls server and the services that talk to the editor.

Only this package (and `transport`) knows lsprotocol and pygls. The services here
(actions, next edits, reports, debug info) never import the server module: the server
hands each what it needs (`host.ServiceHost`), so the imports go server → services.
"""
