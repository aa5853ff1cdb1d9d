"""matchmaker: a technology-transfer matchmaking platform (科技成果转化对接平台)."""
