// Learning-rate schedules (constant, cosine with warm-up, reduce-on-plateau) and early stopping.

/** A learning-rate schedule; its state is plain JSON so checkpoints can carry it. */
export interface LrSchedule {
  readonly kind: string;
  /** Learning rate for the update with 0-based global step `step`. */
  lr(step: number): number;
  /** Called once per finished epoch with the monitored metric (validation loss). */
  onEpochEnd(metric: number): void;
  getState(): Record<string, unknown>;
  setState(state: Record<string, unknown>): void;
}

/** A constant learning rate. */
export class ConstantLr implements LrSchedule {
  readonly kind = 'constant';
  constructor(readonly value: number) {}
  lr(): number {
    return this.value;
  }
  onEpochEnd(): void {}
  getState(): Record<string, unknown> {
    return { kind: this.kind, value: this.value };
  }
  setState(): void {}
}

/** Linear warm-up then half-cosine decay from `baseLr` to `minLr` over `totalSteps`. */
export class CosineLr implements LrSchedule {
  readonly kind = 'cosine';
  constructor(readonly opts: { baseLr: number; minLr?: number; totalSteps: number; warmupSteps?: number }) {}
  lr(step: number): number {
    const { baseLr, minLr = 0, totalSteps, warmupSteps = 0 } = this.opts;
    if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
    const frac = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * frac));
  }
  onEpochEnd(): void {}
  getState(): Record<string, unknown> {
    return { kind: this.kind, ...this.opts };
  }
  setState(): void {}
}

/** Multiply the learning rate by `factor` when the metric has not improved for `patience` epochs. */
export class ReduceOnPlateau implements LrSchedule {
  readonly kind = 'reduce-on-plateau';
  private current: number;
  private best = Infinity;
  private badEpochs = 0;
  private cooldownLeft = 0;

  constructor(
    readonly opts: {
      lr: number;
      factor?: number;
      patience?: number;
      minLr?: number;
      relThreshold?: number;
      cooldown?: number;
    },
  ) {
    this.current = opts.lr;
  }
  lr(): number {
    return this.current;
  }
  onEpochEnd(metric: number): void {
    const { factor = 0.5, patience = 5, minLr = 0, relThreshold = 1e-4, cooldown = 0 } = this.opts;
    if (metric < this.best * (1 - relThreshold)) {
      this.best = metric;
      this.badEpochs = 0;
    } else if (this.cooldownLeft > 0) {
      this.cooldownLeft -= 1;
    } else {
      this.badEpochs += 1;
      if (this.badEpochs > patience) {
        this.current = Math.max(minLr, this.current * factor);
        this.badEpochs = 0;
        this.cooldownLeft = cooldown;
      }
    }
  }
  getState(): Record<string, unknown> {
    return {
      kind: this.kind,
      current: this.current,
      best: this.best === Infinity ? null : this.best,
      badEpochs: this.badEpochs,
      cooldownLeft: this.cooldownLeft,
    };
  }
  setState(state: Record<string, unknown>): void {
    this.current = state.current as number;
    this.best = state.best === null ? Infinity : (state.best as number);
    this.badEpochs = state.badEpochs as number;
    this.cooldownLeft = state.cooldownLeft as number;
  }
}

/** Stop when the monitored metric has not improved by `minDelta` (relative) for `patience` epochs. */
export class EarlyStopping {
  best = Infinity;
  bestEpoch = -1;
  badEpochs = 0;
  constructor(readonly opts: { patience: number; relMinDelta?: number }) {}

  /** Record the metric of finished epoch `epoch`; returns true when training should stop. */
  update(metric: number, epoch: number): boolean {
    if (metric < this.best * (1 - (this.opts.relMinDelta ?? 0))) {
      this.best = metric;
      this.bestEpoch = epoch;
      this.badEpochs = 0;
    } else {
      this.badEpochs += 1;
    }
    return this.stopped;
  }
  /** Whether the recorded epochs already ask to stop (true after a resume from a run that stopped early). */
  get stopped(): boolean {
    return this.badEpochs >= this.opts.patience;
  }
  getState(): Record<string, unknown> {
    return {
      best: this.best === Infinity ? null : this.best,
      bestEpoch: this.bestEpoch,
      badEpochs: this.badEpochs,
    };
  }
  setState(state: Record<string, unknown>): void {
    this.best = state.best === null ? Infinity : (state.best as number);
    this.bestEpoch = state.bestEpoch as number;
    this.badEpochs = state.badEpochs as number;
  }
}
