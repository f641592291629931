"""The shared base of the program's dynamic providers over the official ``yandexcloud`` SDK.

* ``connection``: endpoint, TLS roots and authentication (IAM token, a
  service account's key file, or the VM's metadata service), kept in the
  resource's inputs without a credential;
* ``api``: calls with bounded retries of transient failures, long-running
  operations waited for, every failure one error that names the resource and
  the fix;
* ``errors``: those errors and their messages;
* ``unknowns``: what ``check`` and ``diff`` receive at preview when a value is
  not known yet, and how to compare it.

A resource (``infra/providers/lockbox/``, ``infra/providers/egress/``) adds its
own requests and its Pulumi provider on top.
"""
