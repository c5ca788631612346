"""What the browser pages share: who may reach them (guard), TLS for a page reachable from
elsewhere (tls), a bounded threading HTTP server (http), WebSockets (websocket) and
terminals under a PTY (terminal)."""
