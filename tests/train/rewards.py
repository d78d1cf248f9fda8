"""A programmatic reward for the PPO tests (loaded with `--reward-fn rewards.py:says_yes`)."""


def says_yes(prompts, responses):
    return [1.0 if "yes" in response.lower() else 0.0 for response in responses]
