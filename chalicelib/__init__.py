"""Switchboard application code, packaged with every Lambda by Chalice."""
