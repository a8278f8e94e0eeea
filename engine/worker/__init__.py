"""The GPU worker: the arq worker process and the pack job's stages."""
