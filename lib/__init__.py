"""The course library: small, readable reference implementations the notebooks import.

Organised by topic, not by chapter, so later chapters reuse earlier pieces:

    device      seeds, threads and the torch device (``setup``, ``get_device``)
    plotting    the course's plotly template and ``show`` (notebook and static website alike)
    data        offline datasets (Galton's heights, synthetic generators)
    regression  least squares, ridge, lasso, hinge features, minimum-norm interpolation
    logistic    logistic regression by gradient ascent and Newton's method
    optim       gradient descent, momentum and the adaptive family (Adam, AdamW, ...), schedules, mini-batches
    convex      convex combinations and the chord test
    double_descent  random-feature regression across the interpolation threshold
    losses      log-sum-exp, softmax, cross-entropy and the error signals of the likelihoods
    mlp_numpy   a transparent numpy MLP: forward, backward, finite-difference checks
    nn          torch MLPs: construction, a small training loop, ReLU regions
    init        initialisation schemes and signal propagation through depth
    norm        RMS normalisation and dropout
    representations  how separable the classes are, layer by layer
    embedding   word embeddings: a bigram model, PPMI and SVD, analogies
    memory      associative memories: outer product, pseudo-inverse, MLP; the SVD view and rank-one edits
    recsys      matrix factorisation for recommendation (ALS and Adam)
    superposition  nearly orthogonal directions, read-out interference, the toy superposition model
    conv        convolution as loops, im2col and F.conv2d; receptive fields; parameter counts
    conv_backward  hand-written gradients of convolution, subsampling and pooling
    cnn         small CNNs and MLPs for images; shifts and equivariance
    sequences   text and synthetic sequence tasks (toy sentence, Zen of Python, delayed recall)
    rnn         RNN and LSTM cells, backpropagation through time, gradient paths
    rnn_lm      stacked RNNs, character language models, constant-memory generation
    residual    residual streams, learned iterative solvers, temporal convolutions
    ssm         linear state space models: recurrence, convolution, discretisation
    mamba       selective scans (sequential and parallel) and the selective SSM
    quantum     a qubit as a recurrent network: evolution, the Born rule, measurement
    attention   scaled dot-product attention, masks, heads, KV caches, sinusoidal positions
    transformer RMSNorm, the pre-norm block, TinyGPT (training, decoding with a KV cache)
    text        the capitals corpus, word tokenizer, BERT masking, instruction-tuning loss masks
    interp      attention maps, the logit lens and ablations of a TinyGPT
    param_count parameters, FLOPs and KV-cache memory of Transformers (GPT-2, GPT-3, the 2017 model)
    lora        low-rank adapters (LoRA) and their parameter counts
    moe         top-k routing, the load-balancing loss and mixtures of experts
    scaling     Kaplan and Chinchilla scaling laws, compute-optimal allocation, power-law fits
    gmm         Gaussian mixtures with exact noised densities, scores, denoisers and flow velocities
    sample_metrics  energy distance, MMD, mode weights, within-mode spread and coverage of samples
    diffusion/  diffusion models: schedules, forward process, conversions, denoiser nets, losses, samplers
                (ancestral, DDIM, reverse SDE, probability-flow ODE, Langevin, flow matching), Fokker-Planck
    linear_gaussian  probabilistic PCA and factor analysis: likelihood, posterior, ELBO, EM
    vae         the variational autoencoder: reparametrisation, Gaussian KL, encoders/decoders, IWAE
    kl_fit      forward and reverse KL fits of a Gaussian
    shapes      procedural shapes with a structured code (the "chairs" decoder)
    gan         GAN and WGAN losses, gradient penalty, optimal discriminator, divergences on a grid
    rl/         reinforcement learning: tabular MDPs, TD and Q-learning, games, MCTS, AlphaZero, MPC,
                CartPole, DQN, offline RL, policy gradients, GAE, PPO and TRPO steps
    rlhf        Bradley-Terry reward models, softmax bandits, PPO on a bandit, KL-regularised optima
    vision      patches as tokens and a tiny Vision Transformer
    contrastive the InfoNCE loss and a CLIP-style dual encoder
    trees       impurities, exact greedy splits, CART regression and classification trees, pruning, stumps
    margin_losses  boosting losses with gradients and Hessians; margin losses and their population minimisers
    boosting    least-squares and Newton (XGBoost-exact) boosting, IRLS
    adaboost    AdaBoost with its weights, errors and training-error bound
    forest      random forests: bagging, feature sampling, out-of-bag error, importances
    svm_dual    the SVM's primal and dual objectives, duality gap, bias and KKT report
    svm_geometry  margins as projection gaps, closest points of convex hulls
    lagrange    Lagrange multipliers: maximum entropy, backpropagation's adjoints, trust-region steps
    kernels     kernels, Gram matrices (numpy or torch), PSD checks, explicit feature maps
    svm_solvers dual coordinate ascent and SMO
    svm         a kernel SVM with scikit-learn's conventions
    primal_svm  the hinge-loss primal minimised with torch (linear or kernel)
    learning_theory  separability, shattering, VC dimension, Rademacher complexity and bounds
    widgets/    dual-mode interactive figures (static on the website, live in a kernel)
    grading/    the exercise checker (``Grader``) and the batch grader (``python -m lib.grade``)
"""
import sys

# plotly's live widgets import nbformat, which imports jsonschema, which imports the optional package
# rfc3987_syntax when it is installed (Jupyter pulls it in) and compiles its IRI grammar on import: 3-4 s of
# CPU in every kernel that shows a widget. The course never validates IRIs, so jsonschema is told the
# package is absent (it then skips the "iri" format checks and nothing else).
sys.modules.setdefault("rfc3987_syntax", None)

from .device import get_device, setup  # noqa: E402

__all__ = ["get_device", "setup"]
