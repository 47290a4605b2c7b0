"""What runs: the pinned toolchain, its images, the sandboxes and the confined workspace."""
