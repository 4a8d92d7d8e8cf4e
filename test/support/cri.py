#!/usr/bin/python3
# cri.py: a small CRI client (the gRPC calls kubelet makes) for the OCI tests: JSON requests in, JSON replies out.
# Usage: cri.py SOCKET; each stdin line is {"method": "RunPodSandbox", "request": {...}} with proto field names,
# each stdout line {"reply": {...}} or {"error": "..."}. Needs Debian's python3-grpcio and python3-protobuf.
# Only the messages and fields these calls use are declared, by their numbers in k8s.io/cri-api runtime/v1;
# fields a reply carries beyond them are skipped, as protobuf does with unknown fields.
import json, sys
import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

F = descriptor_pb2.FieldDescriptorProto
STR, I32, I64, U32, BOOL, MSG, ENUM = F.TYPE_STRING, F.TYPE_INT32, F.TYPE_INT64, F.TYPE_UINT32, F.TYPE_BOOL, F.TYPE_MESSAGE, F.TYPE_ENUM

# name -> [(field, number, type, message or enum type, repeated)]
MESSAGES = {
    "PodSandboxMetadata": [("name", 1, STR), ("uid", 2, STR), ("namespace", 3, STR), ("attempt", 4, U32)],
    "LinuxPodSandboxConfig": [("cgroup_parent", 1, STR)],
    "PodSandboxConfig": [
        ("metadata", 1, MSG, "PodSandboxMetadata"), ("hostname", 2, STR), ("log_directory", 3, STR),
        ("linux", 8, MSG, "LinuxPodSandboxConfig"),
    ],
    "RunPodSandboxRequest": [("config", 1, MSG, "PodSandboxConfig"), ("runtime_handler", 2, STR)],
    "RunPodSandboxResponse": [("pod_sandbox_id", 1, STR)],
    "ContainerMetadata": [("name", 1, STR), ("attempt", 2, U32)],
    "ImageSpec": [("image", 1, STR)],
    "KeyValue": [("key", 1, STR), ("value", 2, STR)],
    "LinuxContainerResources": [("cpu_period", 1, I64), ("cpu_quota", 2, I64), ("cpu_shares", 3, I64), ("memory_limit_in_bytes", 4, I64)],
    "LinuxContainerConfig": [("resources", 1, MSG, "LinuxContainerResources")],
    "ContainerConfig": [
        ("metadata", 1, MSG, "ContainerMetadata"), ("image", 2, MSG, "ImageSpec"), ("command", 3, STR, None, True),
        ("args", 4, STR, None, True), ("envs", 6, MSG, "KeyValue", True), ("log_path", 11, STR),
        ("linux", 15, MSG, "LinuxContainerConfig"),
    ],
    "CreateContainerRequest": [("pod_sandbox_id", 1, STR), ("config", 2, MSG, "ContainerConfig"), ("sandbox_config", 3, MSG, "PodSandboxConfig")],
    "CreateContainerResponse": [("container_id", 1, STR)],
    "ContainerIdRequest": [("container_id", 1, STR)],
    "StopContainerRequest": [("container_id", 1, STR), ("timeout", 2, I64)],
    "Empty": [],
    "ContainerStatus": [
        ("id", 1, STR), ("state", 3, ENUM, "ContainerState"), ("started_at", 5, I64), ("finished_at", 6, I64),
        ("exit_code", 7, I32), ("reason", 10, STR), ("message", 11, STR), ("log_path", 15, STR),
    ],
    "ContainerStatusResponse": [("status", 1, MSG, "ContainerStatus")],
    "SandboxIdRequest": [("pod_sandbox_id", 1, STR)],
    "PodSandboxNetworkStatus": [("ip", 1, STR)],
    "PodSandboxStatus": [("id", 1, STR), ("state", 3, ENUM, "PodSandboxState"), ("network", 5, MSG, "PodSandboxNetworkStatus")],
    "PodSandboxStatusResponse": [("status", 1, MSG, "PodSandboxStatus")],
}
ENUMS = {
    "ContainerState": ["CONTAINER_CREATED", "CONTAINER_RUNNING", "CONTAINER_EXITED", "CONTAINER_UNKNOWN"],
    "PodSandboxState": ["SANDBOX_READY", "SANDBOX_NOTREADY"],
}
# method -> (request, response); the request types named ...IdRequest stand for several of the API's own.
METHODS = {
    "RunPodSandbox": ("RunPodSandboxRequest", "RunPodSandboxResponse"),
    "PodSandboxStatus": ("SandboxIdRequest", "PodSandboxStatusResponse"),
    "StopPodSandbox": ("SandboxIdRequest", "Empty"),
    "RemovePodSandbox": ("SandboxIdRequest", "Empty"),
    "CreateContainer": ("CreateContainerRequest", "CreateContainerResponse"),
    "StartContainer": ("ContainerIdRequest", "Empty"),
    "StopContainer": ("StopContainerRequest", "Empty"),
    "RemoveContainer": ("ContainerIdRequest", "Empty"),
    "ContainerStatus": ("ContainerIdRequest", "ContainerStatusResponse"),
}

def build():
    fd = descriptor_pb2.FileDescriptorProto(name="sn_cri.proto", package="runtime.v1", syntax="proto3")
    for name, values in ENUMS.items():
        e = fd.enum_type.add(name=name)
        for i, v in enumerate(values):
            e.value.add(name=v, number=i)
    for name, fields in MESSAGES.items():
        m = fd.message_type.add(name=name)
        for f in fields:
            fname, num, typ = f[0], f[1], f[2]
            ref = f[3] if len(f) > 3 else None
            rep = len(f) > 4 and f[4]
            fld = m.field.add(name=fname, number=num, type=typ, label=F.LABEL_REPEATED if rep else F.LABEL_OPTIONAL)
            if ref is not None:
                fld.type_name = ".runtime.v1." + ref
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    factory = message_factory.MessageFactory(pool)
    return {n: factory.GetPrototype(pool.FindMessageTypeByName("runtime.v1." + n)) for n in MESSAGES}

def main():
    classes = build()
    channel = grpc.insecure_channel("unix://" + sys.argv[1])
    for line in sys.stdin:
        call = json.loads(line)
        req_t, resp_t = METHODS[call["method"]]
        stub = channel.unary_unary(
            "/runtime.v1.RuntimeService/" + call["method"],
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=classes[resp_t].FromString,
        )
        try:
            reply = stub(json_format.ParseDict(call.get("request", {}), classes[req_t]()), timeout=call.get("timeout", 60))
            out = {"reply": json_format.MessageToDict(reply, preserving_proto_field_name=True, including_default_value_fields=True)}
        except grpc.RpcError as e:
            out = {"error": "%s: %s" % (e.code().name, e.details())}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()

main()
