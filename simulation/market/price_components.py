"""Nodal prices split into energy, congestion, losses, current and voltage components.

Why: a nodal price alone cannot say why two schemes price the same node differently; its components
can (a congested transmission line, a feeder's losses, a cable at its ampacity, a bus at its voltage
limit). The split is read from the duals of the clearing's (pricing) LP, so it costs no extra solve.
The maths is in ``docs/market.md`` ("Price components"); in short, with HiGHS's sign convention
``z = c - A^T y`` (row duals ``y`` = change of the cost per unit of a row's right-hand side, column
duals ``z`` = reduced costs), all duals divided by ``dt`` (and by the grid's ``S`` inside a feeder):

**Transmission (DC, lossless).** Stationarity of the free angles ``theta_j`` (``j != ref``) gives
``(B y)_j = (A^T diag(S b) mu)_j`` where ``mu_l`` is the dual of the limit row
``-F^max_l <= F_l <= F^max_l`` (``mu_l <= 0`` when ``F_l = +F^max_l``). With ``y = y_ref 1 + w``,
``w_ref = 0`` and ``PTDF = diag(S b) A_r B_r^{-1}`` (injection at ``n``, withdrawal at the reference):

    price_n = y_ref + sum_l PTDF[l, n] mu_l          (energy + congestion)

exactly; a numerical residual (solver tolerance) is kept in ``losses`` so the sum is the price.

**Distribution (DistFlow SOCP).** Per feeder and step the stationarity of the columns ``P_k, Q_k,
l_k`` (every branch ``k = (i, j)``) and ``v_j`` (every non-root node), with the cone
``P^2 + Q^2 - v_i l <= 0`` represented by its gradient ``(2P, 2Q, -l, -v_i)`` at the cleared point and
one multiplier ``eta_k`` (what an exact conic solver's dual reduces to on the cone's boundary), is a
square linear system ``M x = b`` in ``x = (pi_j, rho_j, beta_k, eta_k)`` (active and reactive balance,
voltage drop, cone):

    P_k:  pi_j - pi_i + 2 r_k beta_k + 2 P_k eta_k = 0
    Q_k:  rho_j - rho_i + 2 x_k beta_k + 2 Q_k eta_k = 0
    l_k:  -r_k pi_j - x_k rho_j - (r_k^2 + x_k^2) beta_k - v_i eta_k = c_l,k - z_l,k
    v_j:  beta_k(j) - sum_{c child of j} (beta_c + l_c eta_c) = -z_v,j

with ``pi_root`` the root's price (``rho_root = 0``: the reactive import is free). Its right-hand side
is a sum of sources, so its solution is the sum of the solutions per source (superposition):

* ``pi_root`` (unit source times the root price): ``pi_j = delta_j pi_root``, ``delta_j`` the marginal
  delivery factor; ``energy + congestion`` = ``pi_root`` (split as at the interface node when the feeder
  is coupled to the transmission grid; all energy when the feeder cleared on its own, its root being
  its reference bus), ``losses`` = ``(delta_j - 1) pi_root`` plus the part of the small loss price
  ``c_l``;
* ``-z_l`` (branches at their ampacity): ``current``;
* ``-z_v`` (buses at a voltage limit): ``voltage``.

The LP of the HiGHS path carries the cones as tangent cuts; its duals then differ from the system's
solution by the outer approximation's error, which is kept in ``losses`` so that the five components
always sum to the LP's nodal price (``tests/market/test_price_components.py`` bounds the difference
against an exact conic solver).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

COMPONENTS = ("energy", "congestion", "losses", "current", "voltage")
"""Names of the price components, in the order of the component axis."""


def ptdf(
    n_nodes: int, ref: int, branch_from: np.ndarray, branch_to: np.ndarray, branch_coef_mw: np.ndarray
) -> np.ndarray:
    """``PTDF[l, n]``: MW on branch ``l`` (from -> to) per MW injected at ``n`` and withdrawn at the
    reference ``ref`` (``branch_coef_mw = S b_l``); column ``ref`` is zero. Dense: for tests and
    small grids (:func:`transmission_congestion` never forms it)."""
    nb = len(branch_from)
    A = _incidence(n_nodes, branch_from, branch_to)
    B = (A.T @ sp.diags(branch_coef_mw) @ A).toarray()
    keep = np.flatnonzero(np.arange(n_nodes) != ref)
    out = np.zeros((nb, n_nodes))
    if keep.size:
        out[:, keep] = (np.diag(branch_coef_mw) @ A.toarray()[:, keep]) @ np.linalg.inv(B[np.ix_(keep, keep)])
    return out


def _incidence(n: int, fr: np.ndarray, to: np.ndarray) -> sp.csr_matrix:
    nb = len(fr)
    return sp.csr_matrix(
        (np.r_[np.ones(nb), -np.ones(nb)], (np.r_[np.arange(nb), np.arange(nb)], np.r_[fr, to])),
        shape=(nb, n),
    )


def transmission_congestion(
    n_nodes: int,
    ref: int,
    branch_from: np.ndarray,
    branch_to: np.ndarray,
    branch_coef_mw: np.ndarray,
    mu: np.ndarray,
) -> np.ndarray:
    """``sum_l PTDF[l, n] mu_l`` per node and step (``mu``: ``(n_branches, T)`` limit duals, EUR/MWh
    per MW), as ``B_r^{-1} A_r^T diag(S b) mu`` (one sparse factorisation, no dense PTDF)."""
    T = mu.shape[1] if mu.ndim == 2 else 0
    out = np.zeros((n_nodes, T))
    if n_nodes <= 1 or len(branch_from) == 0 or not np.any(mu):
        return out
    A = _incidence(n_nodes, branch_from, branch_to)
    B = (A.T @ sp.diags(branch_coef_mw) @ A).tocsc()
    keep = np.flatnonzero(np.arange(n_nodes) != ref)
    rhs = (A.T @ (branch_coef_mw[:, None] * mu))[keep]
    sol = spla.splu(B[keep][:, keep].tocsc()).solve(np.asarray(rhs, dtype=float))
    out[keep] = sol.reshape(len(keep), T)
    return out


def transmission_components(price: np.ndarray, ref: int, congestion: np.ndarray) -> np.ndarray:
    """``(n, 5, T)`` components of transmission prices: energy = the reference bus's price, congestion
    (from :func:`transmission_congestion`), the numerical residual in losses, no current or voltage."""
    n, T = price.shape
    out = np.zeros((n, len(COMPONENTS), T))
    out[:, 0] = price[ref][None, :]
    out[:, 1] = congestion
    out[:, 2] = price - out[:, 0] - out[:, 1]
    return out


def distribution_components(
    branch_from: np.ndarray,
    branch_to: np.ndarray,
    root: int,
    r_pu: np.ndarray,
    x_pu: np.ndarray,
    P: np.ndarray,
    Q: np.ndarray,
    L: np.ndarray,
    V: np.ndarray,
    price: np.ndarray,
    root_split: np.ndarray,
    z_l: np.ndarray,
    z_v: np.ndarray,
    c_l: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 5, T)`` components of one feeder's nodal prices (module docstring) and ``(n, T)`` the
    residual: the LP's price minus the system's (the tangent cuts' approximation error, kept in losses).

    ``P, Q, L`` ``(nb, T)`` and ``V`` ``(n, T)``: the cleared point (per unit); ``price`` ``(n, T)``:
    the nodal prices, EUR/MWh; ``root_split`` ``(2, T)``: the root price's energy and congestion parts;
    ``z_l`` ``(nb, T)``, ``z_v`` ``(n, T)``: reduced costs of ``l`` and ``v`` and ``c_l`` ``(nb,)`` the
    loss price on ``l``, all in EUR/MWh per unit (divided by ``S dt``)."""
    n, T = price.shape
    nb = len(branch_from)
    out = np.zeros((n, len(COMPONENTS), T))
    out[:, 0] = root_split[0][None, :]
    out[:, 1] = root_split[1][None, :]
    resid = np.zeros((n, T))
    if nb == 0:
        out[:, 2] = price - out[:, 0] - out[:, 1]
        return out, resid
    fr = np.asarray(branch_from, dtype=int)
    to = np.asarray(branch_to, dtype=int)
    k_of_node = np.full(n, -1, dtype=int)
    k_of_node[to] = np.arange(nb)
    parent_k = k_of_node[fr]  # branch into each branch's sending node (-1 at the root)
    # unknown blocks: pi (0), rho (1), beta (2), eta (3), each indexed by branch k (node to[k])
    kk = np.arange(nb)
    has_parent = parent_k >= 0
    pk = parent_k[has_parent]
    kp = kk[has_parent]
    pi_root = price[root]
    # every step's system at once: one block-diagonal factorisation per feeder
    M = _kkt_matrix(nb, kp, pk, r_pu, x_pu, P, Q, L, V[fr])
    b = np.zeros((T, 4 * nb, 4))
    b[:, kk[~has_parent], 0] = 1.0  # unit root price (pi_i = pi_root moved to the right)
    b[:, 2 * nb + kk, 1] = c_l[None, :]
    b[:, 2 * nb + kk, 2] = -z_l.T
    b[:, 3 * nb + kk, 3] = -z_v[to].T
    x = _solve(M, b.reshape(T * 4 * nb, 4)).reshape(T, 4 * nb, 4)
    pi = x[:, :nb]  # (T, nb, 4): per step, node to[k], source
    loss = (pi[:, :, 0] - 1.0) * pi_root[:, None] + pi[:, :, 1]  # (T, nb)
    out[to, 3] = pi[:, :, 2].T
    out[to, 4] = pi[:, :, 3].T
    resid[to] = price[to] - (pi_root[:, None] + loss + pi[:, :, 2] + pi[:, :, 3]).T
    # the root and the approximation's residual: losses take what the others leave of the price
    out[:, 2] = price - out[:, 0] - out[:, 1] - out[:, 3] - out[:, 4]
    return out, resid


def _kkt_matrix(
    nb: int,
    kp: np.ndarray,
    pk: np.ndarray,
    r: np.ndarray,
    x: np.ndarray,
    P: np.ndarray,
    Q: np.ndarray,
    L: np.ndarray,
    v_from: np.ndarray,
) -> sp.csr_matrix:
    """The stationarity systems of one feeder (module docstring), one ``4 nb`` block per step on the
    diagonal: rows ``P_k, Q_k, l_k, v_to(k)``, columns ``pi, rho, beta, eta`` per branch; ``kp`` the
    branches with a parent branch ``pk`` (the others leave the root); ``P, Q, L, v_from`` ``(nb, T)``."""
    T = P.shape[1]
    kk = np.arange(nb)
    one = np.ones((nb, T))
    ones_p = np.ones((len(kp), T))
    rr, xx = np.repeat(r[:, None], T, axis=1), np.repeat(x[:, None], T, axis=1)
    trip = [
        (kk, kk, one),  # P_k: pi_j
        (kp, pk, -ones_p),  # P_k: -pi_i
        (kk, 2 * nb + kk, 2 * rr),
        (kk, 3 * nb + kk, 2 * P),
        (nb + kk, nb + kk, one),  # Q_k: rho_j - rho_i
        (nb + kp, nb + pk, -ones_p),
        (nb + kk, 2 * nb + kk, 2 * xx),
        (nb + kk, 3 * nb + kk, 2 * Q),
        (2 * nb + kk, kk, -rr),  # l_k
        (2 * nb + kk, nb + kk, -xx),
        (2 * nb + kk, 2 * nb + kk, -(rr**2 + xx**2)),
        (2 * nb + kk, 3 * nb + kk, -v_from),
        (3 * nb + kk, 2 * nb + kk, one),  # v_j: own drop, children's drops and cones
        (3 * nb + pk, 2 * nb + kp, -ones_p),
        (3 * nb + pk, 3 * nb + kp, -L[kp]),
    ]
    off = np.arange(T)[None, :] * 4 * nb  # (1, T): each step's block
    rows = np.concatenate([(t[0][:, None] + off).ravel() for t in trip])
    cols = np.concatenate([(t[1][:, None] + off).ravel() for t in trip])
    vals = np.concatenate([np.asarray(t[2], dtype=float).ravel() for t in trip])
    n = 4 * nb * T
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def _solve(M: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
    """``M^{-1} b``; a singular system (a degenerate cone at zero flow) by least squares."""
    try:
        with np.errstate(all="ignore"):
            x = spla.splu(M.tocsc()).solve(b)
        if np.all(np.isfinite(x)):
            return np.asarray(x)
    except RuntimeError:
        pass
    return np.asarray(np.linalg.lstsq(M.toarray(), b, rcond=None)[0])


__all__ = [
    "COMPONENTS",
    "distribution_components",
    "ptdf",
    "transmission_components",
    "transmission_congestion",
]
