"""Offline synth: the program under Pulumi's mock runtime, written to build/<stack>/."""
