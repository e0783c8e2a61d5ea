"""What happens when a deadline comes due: Redis as the alarm clock, firing exactly once, warnings, breaches."""
