"""Who people are and what they may see and do: sign-in, tokens, scopes by grid and department."""
