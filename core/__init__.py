"""The bottom layer: typed settings and the error hierarchy; imports nothing of ours."""
