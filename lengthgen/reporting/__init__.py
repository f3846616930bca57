"""Reading result files and turning them into leaderboards, plots and the conjecture test."""
