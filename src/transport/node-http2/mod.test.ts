import { runTransportConformance, startInProcess } from "../conformance.ts";
import { capabilities, nodeHttp2Transport } from "./mod.ts";

runTransportConformance("node-http2", capabilities, startInProcess(nodeHttp2Transport));
