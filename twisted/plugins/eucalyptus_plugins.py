"""
The Eucalyptus daemons as twistd plugins.
"""

from twisted.application.service import ServiceMaker

clc = ServiceMaker("Eucalyptus Cloud Controller", "eucalyptus.services.clc.tap", "The EC2 front door.", "euca-clc")
walrus = ServiceMaker("Eucalyptus Walrus", "eucalyptus.services.walrus.tap", "S3-compatible storage.", "euca-walrus")
cc = ServiceMaker("Eucalyptus Cluster Controller", "eucalyptus.services.cc.tap", "One zone's nodes.", "euca-cc")
sc = ServiceMaker("Eucalyptus Storage Controller", "eucalyptus.services.sc.tap", "Volumes and snapshots.", "euca-sc")
nc = ServiceMaker("Eucalyptus Node Controller", "eucalyptus.services.nc.tap", "Runs VMs with libvirt.", "euca-nc")
cloud = ServiceMaker("Eucalyptus (all components)", "eucalyptus.services.allinone", "The whole cloud.", "eucalyptus")
