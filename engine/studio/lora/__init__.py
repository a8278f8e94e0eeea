"""The LoRA studio tier: a DreamBooth LoRA trained per person with peft, rendered with diffusers."""
