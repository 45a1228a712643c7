// TensorFlow graph execution from tfjs-node: a small GraphDef builder and one session per graph.
//
// tfjs-node runs every op eagerly, one JavaScript -> C call each, and its fused matMul is four
// kernels (reshape, BatchMatMul, add, reshape). A graph run in a TensorFlow session is one call,
// and the session's Grappler passes fuse MatMul + BiasAdd into one kernel. tfjs-node can load only SavedModels, so the graph is written as a
// one-meta-graph SavedModel (weights as Const nodes, no variables) into a temporary folder, loaded
// and the folder removed. The protocol buffers are tfjs-node's own compiled TensorFlow protos.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentBackend, nativeModuleSpecifier, tf } from './backend.js';

/* The few generated google-protobuf messages used here (tfjs-node ships no typings for them). */
interface Msg {
  serializeBinary(): Uint8Array;
}
interface ProtoModule {
  DataType: Record<string, number>;
  GraphDef: new () => Msg & { addNode(n: Msg): void };
  NodeDef: new () => Msg & {
    setName(s: string): void;
    setOp(s: string): void;
    setInputList(s: string[]): void;
    getAttrMap(): { set(k: string, v: Msg): void };
  };
  AttrValue: new () => Msg & {
    setB(b: boolean): void;
    setI(i: number): void;
    setType(t: number): void;
    setShape(s: Msg): void;
    setTensor(t: Msg): void;
  };
  TensorShape: (new () => Msg & { addDim(d: Msg): void }) & {
    Dim: new () => Msg & { setSize(n: number): void };
  };
  Tensor: new () => Msg & {
    setDtype(t: number): void;
    setTensorShape(s: Msg): void;
    setTensorContent(b: Uint8Array): void;
    setIntValList(v: number[]): void;
  };
  TensorInfo: new () => Msg & { setName(s: string): void; setDtype(t: number): void };
  SignatureDef: new () => Msg & {
    setMethodName(s: string): void;
    getInputsMap(): { set(k: string, v: Msg): void };
    getOutputsMap(): { set(k: string, v: Msg): void };
  };
  MetaGraphDef: (new () => Msg & {
    setMetaInfoDef(m: Msg): void;
    setGraphDef(g: Msg): void;
    getSignatureDefMap(): { set(k: string, v: Msg): void };
  }) & { MetaInfoDef: new () => Msg & { addTags(t: string): void } };
  SavedModel: new () => Msg & { setSavedModelSchemaVersion(v: number): void; addMetaGraphs(m: Msg): void };
}

/* The session methods of tfjs-node's backend (public on NodeJSKernelBackend). */
interface SessionBackend {
  loadSavedModelMetaGraph(path: string, tags: string): number;
  runSavedModel(
    id: number,
    inputs: tf.Tensor[],
    infos: { name: string; tfDtype: string }[],
    outputs: string[],
  ): tf.Tensor[];
  deleteSavedModel(id: number): void;
}

let protos: ProtoModule | null = null;

function protoModule(): ProtoModule {
  const spec = nativeModuleSpecifier();
  if (!spec) throw new Error('graph execution needs the tensorflow backend (tfjs-node)');
  return (protos ??= createRequire(import.meta.url)(`${spec}/dist/proto/api_pb.js`) as ProtoModule);
}

/**
 * Whether graphs can run here: the tensorflow or tensorflow-gpu backend is selected and exposes
 * sessions. On wasm and cpu the callers keep their eager paths.
 */
export function graphExecutionAvailable(): boolean {
  const b = currentBackend();
  if (!b || (b.name !== 'tensorflow' && b.name !== 'tensorflow-gpu')) return false;
  return typeof (tf.backend() as unknown as Partial<SessionBackend>).loadSavedModelMetaGraph === 'function';
}

/** A float32 tensor in a graph: the name of the node that produces it. */
export type GraphTensor = string & { readonly __graphTensor: unique symbol };

/**
 * Builds a float32 TensorFlow graph node by node: placeholders, constants and the handful of ops
 * the models' inference paths need. `compile` turns it into a `CompiledGraph`.
 */
export class GraphBuilder {
  private readonly pb = protoModule();
  private readonly graph = new this.pb.GraphDef();
  private readonly inputs: string[] = [];
  private count = 0;

  private attrType(dtype: number): Msg {
    const a = new this.pb.AttrValue();
    a.setType(dtype);
    return a;
  }

  private shape(dims: readonly number[]): Msg {
    const s = new this.pb.TensorShape();
    for (const d of dims) {
      const dim = new this.pb.TensorShape.Dim();
      dim.setSize(d);
      s.addDim(dim);
    }
    return s;
  }

  private node(op: string, inputs: string[], attrs: Record<string, Msg>, name?: string): GraphTensor {
    const n = new this.pb.NodeDef();
    const id = name ?? `${op}_${this.count++}`;
    n.setName(id);
    n.setOp(op);
    n.setInputList(inputs);
    for (const [k, v] of Object.entries(attrs)) n.getAttrMap().set(k, v);
    this.graph.addNode(n);
    return id as GraphTensor;
  }

  private get floatT(): Record<string, Msg> {
    return { T: this.attrType(this.pb.DataType.DT_FLOAT) };
  }

  /**
   * A float32 input; -1 marks a dimension of any size, `null` any shape at all. Inputs are fed in
   * the order declared.
   */
  placeholder(name: string, dims: readonly number[] | null): GraphTensor {
    const attrs: Record<string, Msg> = { dtype: this.attrType(this.pb.DataType.DT_FLOAT) };
    if (dims) {
      const shape = new this.pb.AttrValue();
      shape.setShape(this.shape(dims));
      attrs.shape = shape;
    }
    this.inputs.push(name);
    return this.node('Placeholder', [], attrs, name);
  }

  /** A float32 constant (copied into the graph). */
  constant(data: ArrayLike<number>, dims: readonly number[]): GraphTensor {
    const t = new this.pb.Tensor();
    t.setDtype(this.pb.DataType.DT_FLOAT);
    t.setTensorShape(this.shape(dims));
    t.setTensorContent(new Uint8Array(Float32Array.from(data).buffer));
    const value = new this.pb.AttrValue();
    value.setTensor(t);
    return this.node('Const', [], { dtype: this.attrType(this.pb.DataType.DT_FLOAT), value });
  }

  /** A constant with a tensor's current values. */
  constantOf(t: tf.Tensor): GraphTensor {
    return this.constant(t.dataSync() as Float32Array, t.shape);
  }

  scalar(v: number): GraphTensor {
    return this.constant([v], []);
  }

  /** a b of 2-D tensors, either transposed first (`transposeA`: aᵀ b, `transposeB`: a bᵀ). */
  matMul(
    a: GraphTensor,
    b: GraphTensor,
    t: { transposeA?: boolean; transposeB?: boolean } = {},
  ): GraphTensor {
    const flag = (v: boolean | undefined) => {
      const attr = new this.pb.AttrValue();
      attr.setB(v ?? false);
      return attr;
    };
    return this.node('MatMul', [a, b], {
      ...this.floatT,
      transpose_a: flag(t.transposeA),
      transpose_b: flag(t.transposeB),
    });
  }

  /** Sum over `axes` (the dimensions removed). */
  sum(x: GraphTensor, axes: readonly number[]): GraphTensor {
    return this.reduce('Sum', x, axes);
  }

  /** Mean over `axes` (the dimensions removed). */
  mean(x: GraphTensor, axes: readonly number[]): GraphTensor {
    return this.reduce('Mean', x, axes);
  }

  private reduce(op: 'Sum' | 'Mean', x: GraphTensor, axes: readonly number[]): GraphTensor {
    const int32 = this.attrType(this.pb.DataType.DT_INT32);
    const keep = new this.pb.AttrValue();
    keep.setB(false);
    return this.node(op, [x, this.int32Const(axes)], { ...this.floatT, Tidx: int32, keep_dims: keep });
  }

  /** An int32 vector constant, or a scalar (`scalar`: one value). */
  private int32Const(values: readonly number[], scalar = false): GraphTensor {
    const t = new this.pb.Tensor();
    t.setDtype(this.pb.DataType.DT_INT32);
    t.setTensorShape(this.shape(scalar ? [] : [values.length]));
    t.setIntValList([...values]);
    const value = new this.pb.AttrValue();
    value.setTensor(t);
    return this.node('Const', [], { dtype: this.attrType(this.pb.DataType.DT_INT32), value });
  }

  /** x [.., n] + bias [n] (fused with a preceding MatMul by Grappler). */
  biasAdd(x: GraphTensor, bias: GraphTensor): GraphTensor {
    return this.node('BiasAdd', [x, bias], this.floatT);
  }

  add(a: GraphTensor, b: GraphTensor): GraphTensor {
    return this.node('AddV2', [a, b], this.floatT);
  }

  mul(a: GraphTensor, b: GraphTensor): GraphTensor {
    return this.node('Mul', [a, b], this.floatT);
  }

  sub(a: GraphTensor, b: GraphTensor): GraphTensor {
    return this.node('Sub', [a, b], this.floatT);
  }

  div(a: GraphTensor, b: GraphTensor): GraphTensor {
    return this.node('RealDiv', [a, b], this.floatT);
  }

  erf(x: GraphTensor): GraphTensor {
    return this.node('Erf', [x], this.floatT);
  }

  sqrt(x: GraphTensor): GraphTensor {
    return this.node('Sqrt', [x], this.floatT);
  }

  square(x: GraphTensor): GraphTensor {
    return this.node('Square', [x], this.floatT);
  }

  exp(x: GraphTensor): GraphTensor {
    return this.node('Exp', [x], this.floatT);
  }

  log(x: GraphTensor): GraphTensor {
    return this.node('Log', [x], this.floatT);
  }

  abs(x: GraphTensor): GraphTensor {
    return this.node('Abs', [x], this.floatT);
  }

  /** -1, 0 or 1. */
  sign(x: GraphTensor): GraphTensor {
    return this.node('Sign', [x], this.floatT);
  }

  maximum(a: GraphTensor, b: GraphTensor): GraphTensor {
    return this.node('Maximum', [a, b], this.floatT);
  }

  minimum(a: GraphTensor, b: GraphTensor): GraphTensor {
    return this.node('Minimum', [a, b], this.floatT);
  }

  tanh(x: GraphTensor): GraphTensor {
    return this.node('Tanh', [x], this.floatT);
  }

  /** The block of x starting at `begin` with `size` (-1: to the end) in each dimension. */
  slice(x: GraphTensor, begin: readonly number[], size: readonly number[]): GraphTensor {
    return this.node('Slice', [x, this.int32Const(begin), this.int32Const(size)], {
      ...this.floatT,
      Index: this.attrType(this.pb.DataType.DT_INT32),
    });
  }

  relu(x: GraphTensor): GraphTensor {
    return this.node('Relu', [x], this.floatT);
  }

  sigmoid(x: GraphTensor): GraphTensor {
    return this.node('Sigmoid', [x], this.floatT);
  }

  /** Concatenation along `axis`. */
  concat(xs: GraphTensor[], axis: number): GraphTensor {
    const n = new this.pb.AttrValue();
    n.setI(xs.length);
    return this.node('ConcatV2', [...xs, this.int32Const([axis], true)], {
      ...this.floatT,
      N: n,
      Tidx: this.attrType(this.pb.DataType.DT_INT32),
    });
  }

  /** Ones of x's shape. */
  onesLike(x: GraphTensor): GraphTensor {
    return this.node('OnesLike', [x], this.floatT);
  }

  reshape(x: GraphTensor, dims: readonly number[]): GraphTensor {
    return this.node('Reshape', [x, this.int32Const(dims)], {
      ...this.floatT,
      Tshape: this.attrType(this.pb.DataType.DT_INT32),
    });
  }

  /**
   * Load the graph into a TensorFlow session with `outputs` as its results. The temporary
   * SavedModel folder is removed once loaded; the session lives until `dispose`.
   */
  compile(outputs: Record<string, GraphTensor>): CompiledGraph {
    const names = Object.keys(outputs);
    const outNodes = names.map((k) => this.node('Identity', [outputs[k]], this.floatT, `out_${k}`));
    const info = (node: string) => {
      const t = new this.pb.TensorInfo();
      t.setName(`${node}:0`);
      t.setDtype(this.pb.DataType.DT_FLOAT);
      return t;
    };
    const sig = new this.pb.SignatureDef();
    sig.setMethodName('tensorflow/serving/predict');
    for (const i of this.inputs) sig.getInputsMap().set(i, info(i));
    outNodes.forEach((n, j) => sig.getOutputsMap().set(names[j], info(n)));
    const meta = new this.pb.MetaGraphDef();
    const metaInfo = new this.pb.MetaGraphDef.MetaInfoDef();
    metaInfo.addTags('serve');
    meta.setMetaInfoDef(metaInfo);
    meta.setGraphDef(this.graph);
    meta.getSignatureDefMap().set('serving_default', sig);
    const model = new this.pb.SavedModel();
    model.setSavedModelSchemaVersion(1);
    model.addMetaGraphs(meta);
    const dir = mkdtempSync(join(tmpdir(), 'stellar-emu-graph-'));
    try {
      writeFileSync(join(dir, 'saved_model.pb'), model.serializeBinary());
      const backend = tf.backend() as unknown as SessionBackend;
      const id = backend.loadSavedModelMetaGraph(dir, 'serve');
      return new CompiledGraph(backend, id, [...this.inputs], outNodes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** A graph loaded in a TensorFlow session: `run` feeds the inputs in declaration order. */
export class CompiledGraph {
  private disposed = false;
  private readonly infos: { name: string; tfDtype: string }[];

  constructor(
    private readonly backend: SessionBackend,
    private readonly id: number,
    inputs: string[],
    private readonly outputs: string[],
  ) {
    this.infos = inputs.map((name) => ({ name, tfDtype: 'DT_FLOAT' }));
  }

  /** Outputs in the order of `compile`'s record; the caller disposes them. */
  run(inputs: tf.Tensor[]): tf.Tensor[] {
    if (this.disposed) throw new Error('CompiledGraph.run after dispose');
    if (inputs.length !== this.infos.length)
      throw new Error(`graph takes ${this.infos.length} inputs, got ${inputs.length}`);
    return this.backend.runSavedModel(this.id, inputs, this.infos, this.outputs);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.deleteSavedModel(this.id);
  }
}
