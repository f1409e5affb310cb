/** The in-tree plugin registry and kube-scheduler v1's default plugin set (multiPoint, with weights). */
import type { PluginRef } from "../framework/config.ts";
import type { PluginFactory, Registry } from "../framework/registry.ts";
import { newDefaultBinder, NAME as DefaultBinder } from "./defaultbinder/defaultbinder.ts";
import { newDefaultPreemption, NAME as DefaultPreemption } from "./defaultpreemption/defaultpreemption.ts";
import { newImageLocality, NAME as ImageLocality } from "./imagelocality/imagelocality.ts";
import { newInterPodAffinity, NAME as InterPodAffinity } from "./interpodaffinity/interpodaffinity.ts";
import { newNodeAffinity, NAME as NodeAffinity } from "./nodeaffinity/nodeaffinity.ts";
import { newNodeName, NAME as NodeName } from "./nodename/nodename.ts";
import { newNodePorts, NAME as NodePorts } from "./nodeports/nodeports.ts";
import { newBalancedAllocation, NAME as Balanced } from "./noderesourcesbalancedallocation/noderesourcesbalancedallocation.ts";
import { newNodeResourcesFit, NAME as Fit } from "./noderesourcesfit/noderesourcesfit.ts";
import { newNodeUnschedulable, NAME as NodeUnschedulable } from "./nodeunschedulable/nodeunschedulable.ts";
import { newPodTopologySpread, NAME as PodTopologySpread } from "./podtopologyspread/podtopologyspread.ts";
import { newPrioritySort, NAME as PrioritySort } from "./queuesort/prioritysort.ts";
import { newSchedulingGates, NAME as SchedulingGates } from "./schedulinggates/schedulinggates.ts";
import { newTaintToleration, NAME as TaintToleration } from "./tainttoleration/tainttoleration.ts";
import { NAMES as VOLUME_PLUGINS, newInertVolumePlugin } from "./volumes/volumes.ts";

const entries: [string, PluginFactory][] = [
  [SchedulingGates, () => newSchedulingGates()],
  [PrioritySort, () => newPrioritySort()],
  [NodeUnschedulable, () => newNodeUnschedulable()],
  [NodeName, () => newNodeName()],
  [TaintToleration, () => newTaintToleration()],
  [NodeAffinity, newNodeAffinity],
  [NodePorts, () => newNodePorts()],
  [Fit, newNodeResourcesFit],
  [PodTopologySpread, newPodTopologySpread],
  [InterPodAffinity, newInterPodAffinity],
  [DefaultPreemption, newDefaultPreemption],
  [Balanced, newBalancedAllocation],
  [ImageLocality, () => newImageLocality()],
  [DefaultBinder, newDefaultBinder],
  ...VOLUME_PLUGINS.map((n): [string, PluginFactory] => [n, () => newInertVolumePlugin(n)]),
];

export const inTreeRegistry: Registry = new Map(entries);

/** kube-scheduler v1 defaults: every plugin through multiPoint, in this order, with these score weights. */
export const DEFAULT_MULTIPOINT: readonly PluginRef[] = [
  { name: SchedulingGates, weight: 0 },
  { name: PrioritySort, weight: 0 },
  { name: NodeUnschedulable, weight: 0 },
  { name: NodeName, weight: 0 },
  { name: TaintToleration, weight: 3 },
  { name: NodeAffinity, weight: 2 },
  { name: NodePorts, weight: 0 },
  { name: Fit, weight: 1 },
  { name: "VolumeRestrictions", weight: 0 },
  { name: "NodeVolumeLimits", weight: 0 },
  { name: "VolumeBinding", weight: 0 },
  { name: "VolumeZone", weight: 0 },
  { name: PodTopologySpread, weight: 2 },
  { name: InterPodAffinity, weight: 2 },
  { name: DefaultPreemption, weight: 0 },
  { name: Balanced, weight: 1 },
  { name: ImageLocality, weight: 1 },
  { name: DefaultBinder, weight: 0 },
];
