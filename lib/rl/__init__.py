"""Reinforcement learning: Chapter 8 (deep RL), and the policy-gradient pieces Chapter 5 uses for RLHF and PPO.

Exact planning and tabular learning:

* :mod:`lib.rl.mdp`: tabular MDPs as arrays (``TabularMDP``; FrozenLake and CliffWalking built from
  gymnasium's tables, grid worlds, chains), policy evaluation by a linear solve, the Bellman operators,
  value and policy iteration, the exact objective and policy gradient of a softmax policy, episode sampling;
* :mod:`lib.rl.tabular`: TD(0), Monte Carlo, n-step and TD(lambda) prediction; Q-learning, SARSA,
  expected SARSA and double Q-learning;
* :mod:`lib.rl.returns`: discounted, n-step and lambda returns, and GAE (terminal vs truncated episodes).

Games and search:

* :mod:`lib.rl.games`: tic-tac-toe and Connect-K, an exact negamax solver, players and position suites
  (values are always from the point of view of the player to move);
* :mod:`lib.rl.mcts`: the step-by-step look-ahead methods of section 8.6 and full PUCT Monte Carlo tree search;
* :mod:`lib.rl.alphazero`: a policy-value network, self-play targets, the AlphaZero loss and training loop;
* :mod:`lib.rl.mpc`: random-shooting model-predictive control, learned dynamics models.

Deep RL:

* :mod:`lib.rl.envs`: CartPole as a vectorised numpy environment, identical to gymnasium's dynamics;
* :mod:`lib.rl.dqn`: replay buffer, DQN targets and loss (double DQN), Polyak and hard target updates,
  fitted Q iteration with the conservative (CQL) penalty;
* :mod:`lib.rl.offline`: offline datasets, coverage, exact evaluation of greedy policies;
* :mod:`lib.rl.pg`: the REINFORCE surrogate, the PPO clipped loss, the trust-region steps (Euclidean,
  natural gradient / KL) behind TRPO, the actor-critic network and the REINFORCE, A2C and PPO training loops.
"""
