"""Read queries, each written once: module functions with keyword-only arguments over a session.

One module per aggregate (`staff`, `customers`, `followups`, `opportunities`, …). Services and cards call
these; nobody else writes the same select. Repositories read (and `flush` at most); they never `commit`, and
they know nothing of chat, permissions or translations (those live in `handlers/`).
"""
