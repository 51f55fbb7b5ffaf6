"""Decodes a pcap of market-data packets with sbedecoder's MDP decoder and prints one JSON
object per UDP packet: its MDP packet header and every message with its fields.

Usage: decode_pcap.py SCHEMA.xml CAPTURE.pcap
Fields are keyed by their schema name; enums, sets and integers give the raw wire value (char
enums as a one-character string), decimals their mantissa, char arrays the text. Groups are
lists of field dicts.
"""

import json
import struct
import sys

import dpkt
from sbedecoder import MDPMessageFactory, MDPSchema, SBEParser
from sbedecoder.message import CompositeMessageField, EnumMessageField, SetMessageField


def field_value(field):
    if isinstance(field, CompositeMessageField):
        return field.raw_value["mantissa"]
    if isinstance(field, (EnumMessageField, SetMessageField)):
        return field.raw_value
    value = field.value
    if isinstance(value, bytes):
        return value.decode("ascii")
    return value


def fields_of(fields):
    return {f.original_name: field_value(f) for f in fields}


def main():
    schema = MDPSchema()
    schema.parse(sys.argv[1])
    parser = SBEParser(MDPMessageFactory(schema))
    with open(sys.argv[2], "rb") as capture:
        for _, frame in dpkt.pcap.Reader(capture):
            udp = dpkt.ethernet.Ethernet(frame).data.data
            data = bytes(udp.data)
            seq, sending_time = struct.unpack_from("<IQ", data, 0)
            messages = []
            for message in parser.parse(data, offset=12):
                entry = {"name": message.name, "fields": fields_of(message.fields)}
                groups = {}
                for container in message.groups:
                    groups[container.original_name] = [
                        fields_of(g.fields) for g in container.repeating_groups
                    ]
                entry["groups"] = groups
                messages.append(entry)
            print(json.dumps({"port": udp.dport, "seq": seq, "sending_time": sending_time,
                              "messages": messages}))


if __name__ == "__main__":
    main()
