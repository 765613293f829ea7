var[alpha_beta,gamma]=something
