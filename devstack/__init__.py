"""The local stack behind `make dev`: never deployed (Chalice packages app.py and chalicelib/ only)."""
