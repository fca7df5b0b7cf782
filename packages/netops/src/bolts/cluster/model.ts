/**
 * The clustering model as plain data (structured-cloneable, so that keyed state can snapshot
 * and move it) and the pure functions over it: feature vectors, distances, assigning a window.
 */

/** A sparse vector: feature name (`eventType=LINK-UPDOWN`) -> value. */
export type FeatureVector = Record<string, number>;

export interface Cluster {
  /** 1, 2, 3... in order of founding, per model. */
  readonly id: number;
  centroid: FeatureVector;
  /** Weight of the centroid (windows joined, decayed when `decay` > 0). */
  weight: number;
  /** Windows that joined (founding included). */
  windows: number;
  /** Start of the window that founded it. */
  readonly founded: number;
  /** Start of the last window that joined it. */
  lastJoined: number;
}

export interface ClusterModel {
  clusters: Cluster[];
  nextId: number;
}

export interface ModelOptions {
  readonly distance: 'euclidean' | 'cosine';
  readonly threshold: number;
  readonly decay: number;
  readonly maxClusters: number;
  /** Entries a centroid keeps (largest first); 0: no cap. */
  readonly maxCentroidEntries: number;
}

export interface TopFeature {
  readonly feature: string;
  /** Its value in the window. */
  readonly value: number;
  /** Its value in the nearest centroid. */
  readonly centroid: number;
  /** (value - centroid)^2 */
  readonly contribution: number;
}

export interface Assignment {
  readonly cluster: number;
  /** Distance to the nearest cluster before assignment; null when the model was empty. */
  readonly distance: number | null;
  readonly isNew: boolean;
  /** The nearest older cluster, when a new one was founded and one existed. */
  readonly nearest: number | null;
  /** When a new cluster was founded beside older ones: what differs most from the nearest. */
  readonly topFeatures: readonly TopFeature[] | null;
  /** A cluster dropped to keep `maxClusters`, if any. */
  readonly evicted: number | null;
}

export function emptyModel(): ClusterModel {
  return { clusters: [], nextId: 1 };
}

export function euclidean(a: FeatureVector, b: FeatureVector): number {
  let sum = 0;
  for (const k in a) {
    const d = a[k]! - (b[k] ?? 0);
    sum += d * d;
  }
  for (const k in b) if (!(k in a)) sum += b[k]! * b[k]!;
  return Math.sqrt(sum);
}

/** 1 - cosine similarity; 1 when either vector is all zeros. */
export function cosine(a: FeatureVector, b: FeatureVector): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const k in a) {
    const x = a[k]!;
    na += x * x;
    const y = b[k];
    if (y !== undefined) dot += x * y;
  }
  for (const k in b) nb += b[k]! * b[k]!;
  if (na === 0 || nb === 0) return 1;
  const d = 1 - dot / Math.sqrt(na * nb);
  return Math.max(0, d);
}

/** The features that differ most between a window and a centroid, largest squared difference first; equal ones never. */
export function topFeatures(x: FeatureVector, c: FeatureVector, n = 5): TopFeature[] {
  const all: TopFeature[] = [];
  for (const k in x) {
    const cv = c[k] ?? 0;
    const contribution = (x[k]! - cv) ** 2;
    if (contribution > 0) all.push({ feature: k, value: x[k]!, centroid: cv, contribution });
  }
  for (const k in c) if (!(k in x)) all.push({ feature: k, value: 0, centroid: c[k]!, contribution: c[k]! ** 2 });
  all.sort((p, q) => q.contribution - p.contribution || (p.feature < q.feature ? -1 : 1));
  return all.slice(0, n);
}

/** Keeps the `max` largest entries of a vector (ties by name, for determinism). */
export function capVector(v: FeatureVector, max: number): FeatureVector {
  const keys = Object.keys(v);
  if (max <= 0 || keys.length <= max) return v;
  keys.sort((a, b) => v[b]! - v[a]! || (a < b ? -1 : 1));
  const out: FeatureVector = {};
  for (let i = 0; i < max; i++) out[keys[i]!] = v[keys[i]!]!;
  return out;
}

/**
 * Assigns one window's vector: joins the nearest cluster (moving its centroid) or founds a
 * new one when the model is empty or every cluster is farther than the threshold. Mutates
 * the model.
 */
export function assign(model: ClusterModel, x: FeatureVector, windowStart: number, o: ModelOptions): Assignment {
  const dist = o.distance === 'cosine' ? cosine : euclidean;
  let best: Cluster | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of model.clusters) {
    const d = dist(x, c.centroid);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best !== undefined && bestD <= o.threshold) {
    const w = best.weight * (1 - o.decay) + 1;
    const c = best.centroid;
    const step = 1 / w;
    for (const k in c) c[k] = c[k]! + ((x[k] ?? 0) - c[k]!) * step;
    for (const k in x) if (!(k in c)) c[k] = x[k]! * step;
    best.centroid = capVector(c, o.maxCentroidEntries);
    best.weight = w;
    best.windows++;
    best.lastJoined = windowStart;
    return { cluster: best.id, distance: bestD, isNew: false, nearest: null, topFeatures: null, evicted: null };
  }
  let evicted: number | null = null;
  if (model.clusters.length >= o.maxClusters) {
    let victim = 0;
    for (let i = 1; i < model.clusters.length; i++) {
      const c = model.clusters[i]!;
      const v = model.clusters[victim]!;
      if (c.lastJoined < v.lastJoined || (c.lastJoined === v.lastJoined && c.weight < v.weight)) victim = i;
    }
    evicted = model.clusters[victim]!.id;
    // Keep the nearest for the alert even if it is the victim.
    model.clusters.splice(victim, 1);
  }
  const id = model.nextId++;
  model.clusters.push({ id, centroid: capVector({ ...x }, o.maxCentroidEntries), weight: 1, windows: 1, founded: windowStart, lastJoined: windowStart });
  if (best === undefined) return { cluster: id, distance: null, isNew: true, nearest: null, topFeatures: null, evicted };
  return { cluster: id, distance: bestD, isNew: true, nearest: best.id, topFeatures: topFeatures(x, best.centroid), evicted };
}
