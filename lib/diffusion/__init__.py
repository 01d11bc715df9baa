"""Diffusion models (Chapter 6): noising processes, samplers, conversions and the networks that learn them.

    discrete       the population picture of 6.1: forward marginal, backward conditional, round trip
    schedules      noising processes x_t = a_t x_0 + b_t eps (book VE chain, VE, VP/DDPM, VP-SDE, flow matching)
    forward        closed-form noising, the DDPM and VE-bridge posteriors, step-by-step forward chains
    convert        score <-> noise <-> clean-data <-> velocity conversions (Tweedie)
    samplers       ancestral DDPM, DDIM, reverse SDE, probability-flow ODE, Langevin, flow matching, CFG
    fokker_planck  1-D Fokker-Planck and continuity solvers, Brownian path variation
    nets           time embeddings and small denoising networks
    losses         the book's VE losses, DDPM losses and ELBO weights, score-matching losses
    flow_matching  the flow-matching loss
    train          a small training loop

The exact oracle these are tested against is :mod:`lib.gmm` (Gaussian mixtures).
"""
