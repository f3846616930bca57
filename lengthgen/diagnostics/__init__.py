"""Training-dynamics diagnostics: rank growth of weight updates and the
effective rank of representations (RankMe, LiDAR)."""
