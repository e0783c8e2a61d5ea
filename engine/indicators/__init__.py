"""Indicators (考核评价): what is counted, how a case's history becomes counts, and the rollup kept as events happen."""
