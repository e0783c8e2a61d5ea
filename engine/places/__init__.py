"""The grid tree (city → town → village → level-2 → unit grid), departments by jurisdiction, GPS to grid."""
