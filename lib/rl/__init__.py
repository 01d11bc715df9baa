"""Reinforcement-learning building blocks shared by Chapter 5 (RLHF, PPO) and Chapter 8 (RL).

:mod:`lib.rl.pg` holds the policy-gradient primitives: the REINFORCE surrogate, the PPO clipped loss and
the trust-region steps (Euclidean, natural gradient / KL) used to derive PPO and TRPO.
"""
