"""`minutes browse`: a local web page to search the decisions and see where each value was read."""
