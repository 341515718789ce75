/* The network half's entry points, in one table (see auth/module.h). */
#include "auth/module.h"

#include "auth/net/device.h"
#include "auth/net/discover.h"
#include "auth/net/dw.h"
#include "auth/net/m2m.h"
#include "auth/net/oauth.h"
#include "auth/net/revoke.h"

const struct ca_module ca_module_table = {
	.m2m_token = ca_m2m_token,
	.oauth_login = ca_oauth_login,
	.oauth_refresh = ca_oauth_refresh,
	.discover_api_base_url = ca_discover_api_base_url,
	.dw_credentials = ca_dw_credentials,
	.device_login = ca_device_login,
	.oauth_revoke = ca_oauth_revoke,
};
