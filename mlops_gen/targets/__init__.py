"""One planner per output target: each returns the files it contributes for a spec."""
