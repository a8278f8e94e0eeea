"""The express tier: the person's selfies as reference images to FLUX.2 [klein], no training."""
