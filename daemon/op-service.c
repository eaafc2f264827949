/*
 * org.varlink.service: GetInfo and GetInterfaceDescription.
 */
#include <string.h>

#include "call.h"
#include "config.h"
#include "method.h"

/* Who we are and what we serve. */
static int
op_get_info(struct call *c)
{
	json_object *p = json_object_new_object();
	json_object *ifs = json_object_new_array();

	json_object_object_add(p, "vendor", json_object_new_string("sockd"));
	json_object_object_add(p, "product", json_object_new_string("sockd"));
	json_object_object_add(p, "version",
			       json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(p, "url", json_object_new_string(PACKAGE_URL));
	json_object_array_add(ifs,
			      json_object_new_string("org.varlink.service"));
	json_object_array_add(ifs, json_object_new_string("io.sockd"));
	json_object_object_add(p, "interfaces", ifs);
	return call_reply(c, p);
}

/* The IDL of one of our interfaces. */
static int
op_get_interface_description(struct call *c)
{
	static const char service_idl[] =
	    "# The Varlink Service Interface is provided by every varlink "
	    "service.\n"
	    "interface org.varlink.service\n"
	    "\n"
	    "# Get a list of all the interfaces a service provides and "
	    "information\n"
	    "# about the implementation.\n"
	    "method GetInfo() -> (\n"
	    "  vendor: string,\n"
	    "  product: string,\n"
	    "  version: string,\n"
	    "  url: string,\n"
	    "  interfaces: []string\n"
	    ")\n"
	    "\n"
	    "# Get the description of an interface that is implemented by "
	    "this service.\n"
	    "method GetInterfaceDescription(interface: string) -> "
	    "(description: string)\n"
	    "\n"
	    "# The requested interface was not found.\n"
	    "error InterfaceNotFound (interface: string)\n"
	    "\n"
	    "# The requested method was not found\n"
	    "error MethodNotFound (method: string)\n"
	    "\n"
	    "# The interface defines the requested method, but the "
	    "service does not\n"
	    "# implement it.\n"
	    "error MethodNotImplemented (method: string)\n"
	    "\n"
	    "# One of the passed parameters is invalid.\n"
	    "error InvalidParameter (parameter: string)\n"
	    "\n"
	    "# Client is denied access\n"
	    "error PermissionDenied ()\n"
	    "\n"
	    "# Method is expected to be called with 'more' set to true, "
	    "but wasn't\n"
	    "error ExpectedMore ()\n"
	    "\n"
	    "# Method is expected to be called with 'upgrade' set to "
	    "true, but wasn't\n"
	    "error ExpectedUpgrade ()\n";
	const char *name = call_param_str(c, "interface");
	const char *text = NULL;
	json_object *p;

	if (strcmp(name, "io.sockd") == 0)
		text = sockd_idl;
	else if (strcmp(name, "org.varlink.service") == 0)
		text = service_idl;
	if (text == NULL) {
		p = json_object_new_object();
		json_object_object_add(p, "interface",
				       json_object_new_string(name));
		return call_error(c, "org.varlink.service.InterfaceNotFound",
				  p);
	}
	p = json_object_new_object();
	json_object_object_add(p, "description", json_object_new_string(text));
	return call_reply(c, p);
}

static const struct vl_param no_params[] = {{NULL, 0, 0}};
static const struct vl_param describe_params[] = {
    {"interface", VL_STRING, 0},
    {NULL, 0, 0},
};

const struct method op_service_methods[] = {
    {"org.varlink.service", "GetInfo", no_params, M_OPEN, op_get_info},
    {"org.varlink.service", "GetInterfaceDescription", describe_params, M_OPEN,
     op_get_interface_description},
    {NULL, NULL, NULL, 0, NULL},
};
