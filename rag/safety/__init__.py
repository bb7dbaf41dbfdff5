"""Everything that stands between strangers' text or strangers' requests and the user.

The layers, in the order a document or a request meets them:

- ``index.neutralize``: chat-template tokens, role lines and hidden characters made inert
  at ingest (it lives in ``index`` because chunks are stored already safe, and ``index``
  never imports ``rag``); the prompt builder applies it again to what it sends.
- `injection`: sentences that address the assistant instead of the reader, quarantined
  from the prompt, and answer sentences that repeat them dropped.
- `sanitize`: images, tags and script links stripped from model output before rendering.
- `network`: the one Host / Origin / secret policy of every face that listens (the web UI
  and the HTTP API).
"""
