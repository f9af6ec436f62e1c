"""config.toml and the environment to frozen settings; TOML files, the token, durations."""
