"""How long a step may take: the business calendar, SLA clocks with their explanations, holidays."""
