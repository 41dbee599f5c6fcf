The skeleton of the cloud: the eucalyptus package, eucalyptus.conf and its parser, euca-admin init/status
(keys, the admin account and its eucarc), WS-Security signed SOAP between components (signxml, pinned
certificates, five signed parts, replay protection), SOAP services from checked-in WSDLs for the NC, CC,
SC and Empyrean, a signed Twisted SOAP client, and the five twistd daemons plus the all-in-one one.
