"""What a scene script needs to run as a worker: Kubric-style flags, seeded setup, atomic publish of its folder."""
