"""Reports: counters kept as events happen, summed over hours on request."""
